"""mlopsctl: the platform's command-line companion (offline preview, cost, diff, bootstrap, verify)."""
