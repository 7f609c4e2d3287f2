from datetime import timedelta
from tests.retention._site import T0, load, policies_text

def test_smoke(site):
    p = load(policies_text(holds="    - {name: h1, tenant: globex, reason: r, approver: a}\n"))
    a = site.write("acme", "inference_logs", T0, T0 + timedelta(days=90), count=2)
    b = site.write("beta", "inference_logs", T0, T0 + timedelta(days=30), count=3)
    c = site.write("globex", "inference_logs", T0, T0 + timedelta(days=30), count=1)
    sw = site.sweeper(p)
    dry = sw.run(now=T0 + timedelta(days=40), dry_run=True)
    print(dry)
    rep = sw.run(now=T0 + timedelta(days=40))
    print(rep)
    print(site.entries("retention_sweep"))
    r = site.verify()
    print(r.problems, r.retention)
    assert r.ok
