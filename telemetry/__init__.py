"""What operators watch: correlated logs (logs.py) and Prometheus metrics."""
