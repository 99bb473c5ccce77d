environment                         = "prod"
tweet_source                        = "x"
sentiment_engine                    = "comprehend"
stream_retention_hours              = 168
firehose_buffering_interval_seconds = 300
log_retention_days                  = 90
force_destroy                       = false
# Required: where alarms are mailed (AWS sends a confirmation link first), e.g. with
# TF_VAR_alarm_email=oncall@example.com ENV=prod make deploy.
# alarm_email = "oncall@example.com"
search_queries = ["aws lambda", "#serverless", "terraform aws"]
trend_woeids   = [1]
