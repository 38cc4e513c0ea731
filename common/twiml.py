"""Messaging TwiML, built with twilio's own `twilio.twiml` classes.

Every text that goes into TwiML passes through `xml_safe` first: the XML
library escapes `<`, `&` and quotes, but a control character from a
caller's message would still make the document unreadable, and Twilio
reports that as error 12100.
"""

from __future__ import annotations

import re

from twilio.twiml.messaging_response import MessagingResponse

# Characters XML 1.0 forbids: C0 controls other than tab, newline and carriage
# return, lone surrogates, and the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters an XML document cannot carry."""
    return _NOT_XML.sub("", text)


def message(text: str | None) -> str:
    """A messaging answer: one `<Message>`, or none when `text` is empty."""
    response = MessagingResponse()
    if text:
        response.message(xml_safe(text))
    return str(response.to_xml())


def empty() -> str:
    """A messaging answer that sends nothing."""
    return message(None)
