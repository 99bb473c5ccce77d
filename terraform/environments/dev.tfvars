environment                         = "dev"
tweet_source                        = "x"
sentiment_engine                    = "vader"
firehose_buffering_interval_seconds = 60
log_retention_days                  = 7
force_destroy                       = true
