-- An actual cross-origin request: GET with Origin.
wrk.method = "GET"
wrk.headers["Origin"] = "https://app.example.com"
