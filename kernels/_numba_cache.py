"""Make numba's on-disk cache (cache=True) fail safe.

numba raises when a cache file is truncated or corrupt (an unpickling
error from deep inside the first call of a kernel), so one bad file in
__pycache__ or NUMBA_CACHE_DIR would break fastnp for good.  This wraps the
places where numba reads and writes its cache:

- an unreadable index counts as empty and an unreadable entry as a miss:
  the kernel is compiled again and the fresh result overwrites the bad file;
- an entry compiled for other argument types than the ones asked for is a
  miss too.  numba's index update is read-modify-write with no lock: two
  processes saving different signatures of one kernel at once (float32 in
  one, float64 in the other) can leave the index naming one signature and
  its data file holding the other's machine code, which numba would then
  run on the wrong types;
- saves into one cache folder take turns (an exclusive POSIX file lock,
  where the platform has one), so that race does not happen in the first
  place and no process's entry is lost.

Unwritable cache folders are already handled by numba (it skips caching),
and it writes each file atomically.
"""
import contextlib
import functools
import os
import warnings

from numba.core import caching, sigutils

try:
    import fcntl
except ImportError:  # Windows: no lock; the signature check still guards every load
    fcntl = None

LOCK_NAME = "fastnp-cache.lock"


def _warn(what, err):
    warnings.warn(f"fastnp: ignoring an unreadable numba cache {what} ({type(err).__name__}: {err}); "
                  f"recompiling", RuntimeWarning, stacklevel=3)


def compiled_for(result, sig):
    """True unless `result` (a cache entry numba rebuilt for `sig`) says it
    was compiled for other argument types."""
    args = getattr(getattr(result, "signature", None), "args", None)
    try:
        wanted = sigutils.normalize_signature(sig)[0]
    except Exception:  # a signature form this check does not know: take numba's word
        return True
    return args is None or tuple(args) == tuple(wanted)


@contextlib.contextmanager
def folder_lock(folder):
    """Hold an exclusive lock on writes to the cache folder `folder` (a no-op
    where locking is unavailable or the lock file cannot be opened)."""
    try:
        lock = open(os.path.join(folder, LOCK_NAME), "a") if fcntl is not None else None
    except OSError:
        lock = None
    if lock is None:
        yield
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def harden_numba_cache():
    """Install the wrappers once (idempotent)."""
    index_file = caching.IndexDataCacheFile
    if getattr(index_file, "_fastnp_hardened", False):
        return
    load_index = index_file._load_index
    save = index_file.save
    load_overload = caching.Cache.load_overload

    @functools.wraps(load_index)
    def _load_index(self):
        try:
            return load_index(self)
        except Exception as err:  # a truncated or garbled index: treat as empty
            _warn(f"index {getattr(self, '_index_path', '')}", err)
            return {}

    @functools.wraps(save)
    def _save(self, key, data):
        with folder_lock(self._cache_path):
            save(self, key, data)

    @functools.wraps(load_overload)
    def _load_overload(self, sig, target_context):
        try:
            result = load_overload(self, sig, target_context)
        except Exception as err:  # a truncated or garbled entry: a cache miss
            _warn("entry", err)
            return None
        if result is not None and not compiled_for(result, sig):
            warnings.warn(f"fastnp: ignoring a numba cache entry compiled for {result.signature.args}, "
                          f"not {sig} (two processes saved at once without a lock); recompiling",
                          RuntimeWarning, stacklevel=2)
            return None
        return result

    index_file._load_index = _load_index
    index_file.save = _save
    caching.Cache.load_overload = _load_overload
    index_file._fastnp_hardened = True
