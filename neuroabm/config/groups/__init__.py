"""Parameter groups, one per TOML section and subsystem, composed into :class:`neuroabm.config.Params`.

Each group holds its fields (flat names) and the cross-checks that refuse one of them (``check``);
:mod:`neuroabm.config.params` composes them. See docs/ARCHITECTURE.md ("Parameter groups").
"""
