output "topic_arn" {
  description = "ARN of the SNS topic every alarm notifies."
  value       = aws_sns_topic.this.arn
}

output "alarm_names" {
  description = "Alarm names by short key."
  value = merge(
    { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name },
    { for key, alarm in aws_cloudwatch_metric_alarm.stream_readers : key => alarm.alarm_name },
  )
}
