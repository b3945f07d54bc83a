"""Orders and their jobs: accepting commands, applying them, cancelling,
reading (cache-aside), waiting, the relay, retention and operator maintenance."""
