"""填报提醒: the monthly reminder e-mails of the monitoring reports due."""
