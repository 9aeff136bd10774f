"""Calibration: a client's call log → estimates with intervals → a runnable scenario file; and the
backtest of a scenario against what the log says really happened (docs/calibrate.md)."""
