# The emulator stack (`make up`, `make demo`): pass local_endpoint on the command line.
environment                         = "local"
tweet_source                        = "replay"
sentiment_engine                    = "vader"
consumer_starting_position          = "TRIM_HORIZON"
firehose_buffering_interval_seconds = 60
firehose_buffering_size_mb          = 64
log_retention_days                  = 1
force_destroy                       = true
# The replay dataset's own topics: its one search query and its trends (WOEID 1).
search_queries = ["aws lambda"]
trend_woeids   = [1]
