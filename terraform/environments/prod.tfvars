environment                         = "prod"
tweet_source                        = "x"
sentiment_engine                    = "comprehend"
stream_retention_hours              = 168
firehose_buffering_interval_seconds = 300
log_retention_days                  = 90
force_destroy                       = false
