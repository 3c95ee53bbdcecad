"""What pre-incasso costs, what goes out and what it brought in: figures for the dashboards.

``figures`` holds pure functions over plain records (easy to check against a scenario with a
known outcome); ``loading`` reads those records from the event log and the mirror; ``charts``
draws them as server-rendered SVG; ``golive`` sums up what going live will send and cost.
"""
