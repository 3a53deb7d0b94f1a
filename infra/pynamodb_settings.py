"""pynamodb's settings for the local stack: `infra/local.py` points PYNAMODB_CONFIG here before the app loads.

One `make run` process serves what on AWS are many Lambda instances at once, and each request
runs up to 16 DynamoDB calls in parallel (team statistics, the dashboard). With pynamodb's default
of 10 pooled connections per client, every call past the tenth opened a new connection and
dropped it afterwards ("Connection pool is full, discarding connection"). Any setting not named
here keeps pynamodb's default.
"""

max_pool_connections = 64
