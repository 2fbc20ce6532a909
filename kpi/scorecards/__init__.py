"""Scorecards: unit and project scorecards, the 主管部门 roll-up, charts, and the 绩效运行监控表."""
