"""What came out: the one Result type, its tables and statistics, pricing, the results folder, CLI text."""
