-- wrk script: POST the JSON body in $WRK_BODY (a file) to the URL given on wrk's command line.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("WRK_BODY"), "r"))
wrk.body = f:read("*a")
f:close()
