"""serve-ssh: jumpdeck as the SSH endpoint itself.

An asyncssh server maps each client key to a stored user and runs one jumpdeck child
per session in its own PTY, acting as that user with origin `ssh:<address>`. Nothing
here imports Textual; the child is a separate process.

    hostkey.py          the server's ed25519 host key, made on first start
    authorized_keys.py  importing an OpenSSH authorized_keys file into the user store
    pty_child.py        one jumpdeck child in a PTY
    sessions.py         the live session table: limits, idle sweep, ending one
    server.py           the asyncssh server: auth, refusals, session plumbing
    control.py          the control socket in the data dir and its client API
"""
