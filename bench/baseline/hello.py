"""The cold-start and memory baseline: a bare functions-framework function."""

import functions_framework


@functions_framework.http
def hello(request):
    return "Hello, World!"
