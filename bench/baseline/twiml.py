"""The throughput baseline: a bare Flask view answering fixed TwiML."""

import functions_framework

_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hi</Message></Response>'
)


@functions_framework.http
def twiml(request):
    request.get_data()
    return _TWIML, 200, {"Content-Type": "text/xml; charset=utf-8"}
