"""绩效运行监控 ("双监控"): lights and forecasts through the year, the 绩效运行监控表 pages and workbook.

The pure rules (no Django) are `kpi.lights`; they are also importable from here as before
(`from kpi.monitoring import indicator_light`). The Django parts are this package's modules
(`selectors`, `views`, `xlsx`), imported only where they are used.
"""
from kpi.lights import Light, budget_light, forecast, indicator_light, progress_light, worst_light

__all__ = ["Light", "budget_light", "forecast", "indicator_light", "progress_light", "worst_light"]
