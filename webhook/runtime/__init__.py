"""The runtime: what runs in a webhook process (watches, leader election, the leader loops, the
certificate keeper, the HTTP server) and how it is wired. The composition root lives here."""
