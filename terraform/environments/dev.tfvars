environment                         = "dev"
tweet_source                        = "x"
sentiment_engine                    = "vader"
firehose_buffering_interval_seconds = 60
log_retention_days                  = 7
force_destroy                       = true
# Required: where alarms are mailed (AWS sends a confirmation link first), e.g. with
# TF_VAR_alarm_email=oncall@example.com make deploy. To deploy without, set
# alarm_notifications_disabled = true instead.
# alarm_email = "oncall@example.com"
search_queries = ["aws lambda", "#serverless", "terraform aws"]
trend_woeids   = [1]
