"""Parameter groups, one per TOML section and subsystem, composed into :class:`neuroabm.config.Params`.

See docs/ARCHITECTURE.md ("Parameter groups").
"""
