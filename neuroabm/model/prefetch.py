"""A software prefetch hint for numba kernels (LLVM's ``llvm.prefetch``).

The STDP kernels read a few fields of each synapse's *target* (a random row of a small table)
and stream through rows of the synapse store that start at random places. Both are latency
bound rather than bandwidth bound; asking for the lines a dozen synapses (or one row) ahead lets
the loads overlap. A prefetch has no effect on results.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, index):
    """Hint that the cache line holding ``arr[index]`` will be read soon (``index``: int or tuple of ints).

    ``index`` must be within the array (not checked: the address is computed like an item's).
    """
    if not isinstance(arr, types.Array):
        return None
    n_idx = len(index) if isinstance(index, types.BaseTuple) else 1
    if n_idx != arr.ndim:
        return None
    sig = types.void(arr, index)

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        if isinstance(idxty, types.BaseTuple):
            raw = cgutils.unpack_tuple(builder, args[1], len(idxty))
            kinds = list(idxty)
        else:
            raw, kinds = [args[1]], [idxty]
        idx = [context.cast(builder, v, k, types.intp) for v, k in zip(raw, kinds, strict=True)]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # read access (0), high temporal locality (3), data cache (1)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
