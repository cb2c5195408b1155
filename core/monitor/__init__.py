"""Monitoring of provisioned resources (seeds 001, 002, 004 "my resources").

`resources` says which VMs an actor may see, `prometheus` reads their CPU, memory and
disk, and `service` joins the two into a snapshot the Monitor screen and the CLI show.
"""
