-- wrk script: POST a small chat completion to mock-echo (body from BENCH_BODY or a default).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
wrk.body = os.getenv("BENCH_BODY") or
  '{"model":"mock-echo","messages":[{"role":"user","content":"Summarise the plot of Hamlet in two sentences, please."}]}'
