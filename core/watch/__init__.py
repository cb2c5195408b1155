"""The fleet watch: one checker for the whole team (issue #22).

`WatchService` (service.py) checks every active server on its interval through the
check engine, sharing the fleet with the other jump hosts on the store (claims.py);
`record_results` (recorder.py) turns results into the latest result per server,
incidents and minute/hour/day aggregates; `WatchHistory` (history.py) reads them back.
"""
