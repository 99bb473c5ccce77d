"""Local stand-ins for the AWS services the stack uses, one module per service.

`moto_server` runs moto (patched where it falls short of AWS) as the emulator every other piece
talks to through the standard `AWS_ENDPOINT_URL`; the product code never knows it is local.
"""
