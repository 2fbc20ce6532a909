"""审核: the queue of submitted reports waiting for the user's decision (审核通过 or 退回)."""
