"""tritune tuner: drives `tritune bench kernel --json`, selects the best
variant per (op, format, shape, batch, threads) and writes results/."""
