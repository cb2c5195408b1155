from jumpdeck.core.words import counted, shown_of


def test_counts_read_as_words() -> None:
    assert counted(1, "server") == "1 server" and counted(0, "server") == "0 servers"
    assert counted(2, "entry", "entries") == "2 entries" and counted(12345, "row") == "12,345 rows"
    assert shown_of(6, 6, "server") == "6 servers" and shown_of(2, 6, "server") == "2 of 6 servers"
    assert shown_of(1, 1, "server") == "1 server"
