-- wrk script: POST one order per request (API key from the ORDERLY_KEY variable).
wrk.method = "POST"
wrk.body = '{"currency":"USD","items":[{"sku":"B-1","quantity":1,"unit_price_cents":999}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ORDERLY_KEY")
