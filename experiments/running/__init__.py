"""How to run: executors (local processes, Dask), the resumable task store, atomic files, progress."""
