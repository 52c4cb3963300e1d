"""Make numba's on-disk cache (cache=True) fail safe.

numba raises when a cache file is truncated or corrupt (an unpickling
error from deep inside the first call of a kernel), so one bad file in
__pycache__ or NUMBA_CACHE_DIR would break fastnp for good.  This wraps the
two places where numba reads its cache so that an unreadable index counts as
empty and an unreadable entry as a miss: the kernel is compiled again and
the fresh result overwrites the bad file.  Unwritable cache folders and
concurrent compilation are already handled by numba (it skips caching, and
writes files atomically).
"""
import functools
import warnings

from numba.core import caching


def _warn(what, err):
    warnings.warn(f"fastnp: ignoring an unreadable numba cache {what} ({type(err).__name__}: {err}); "
                  f"recompiling", RuntimeWarning, stacklevel=3)


def harden_numba_cache():
    """Install the wrappers once (idempotent)."""
    index_file = caching.IndexDataCacheFile
    if getattr(index_file, "_fastnp_hardened", False):
        return
    load_index = index_file._load_index
    load_overload = caching.Cache.load_overload

    @functools.wraps(load_index)
    def _load_index(self):
        try:
            return load_index(self)
        except Exception as err:  # a truncated or garbled index: treat as empty
            _warn(f"index {getattr(self, '_index_path', '')}", err)
            return {}

    @functools.wraps(load_overload)
    def _load_overload(self, sig, target_context):
        try:
            return load_overload(self, sig, target_context)
        except Exception as err:  # a truncated or garbled entry: a cache miss
            _warn("entry", err)
            return None

    index_file._load_index = _load_index
    caching.Cache.load_overload = _load_overload
    index_file._fastnp_hardened = True
