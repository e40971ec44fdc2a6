-- A browser preflight: OPTIONS with Origin and Access-Control-Request-Method.
wrk.method = "OPTIONS"
wrk.headers["Origin"] = "https://app.example.com"
wrk.headers["Access-Control-Request-Method"] = "PUT"
wrk.headers["Access-Control-Request-Headers"] = "content-type,x-api-key"
