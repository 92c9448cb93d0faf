"""What happens because of a change: the history rows every write leaves become webhook
deliveries.

``outbox`` turns the history into deliveries, ``delivery`` signs and sends each attempt and
retries it, ``transport`` makes the request (timeouts, no redirects, the receiver address
guard), ``sealing`` keeps the signing secrets encrypted, ``subscriptions`` writes the
subscriptions.
"""
