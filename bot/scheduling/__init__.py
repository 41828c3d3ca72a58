"""What the leader runs every 30 seconds: jobs, recurring rounds and their rules, leadership."""
