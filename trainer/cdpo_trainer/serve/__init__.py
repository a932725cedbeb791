"""The JSON Lines server: wire protocol, typed params, the op table."""
