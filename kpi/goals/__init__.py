"""Goal tables (绩效目标表) and their indicators: creating, editing, approving (批复), the project's lead."""
