-- wrk script: send pre-signed Twilio webhooks in turn, one per request.
-- The file named by REQUESTS_FILE holds one request per line:
-- <X-Twilio-Signature><TAB><form body>.

local requests = {}
local index = 0

function init(args)
  local path = os.getenv("REQUESTS_PATH") or "/twilio/sms"
  for line in io.lines(os.getenv("REQUESTS_FILE")) do
    local signature, body = line:match("^([^\t]*)\t(.*)$")
    local headers = {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = signature,
    }
    requests[#requests + 1] = wrk.format("POST", path, headers, body)
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end
