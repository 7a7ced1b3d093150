"""A ticketing sync's insp.ac client (a fixture for the scan tests: never run)."""

import httpx

API = "https://api.insp.ac"
ISSUES = "/issues"


class InspacClient:
    def __init__(self, token: str) -> None:
        self.http = httpx.Client(base_url=f"{API}/v1",
                                 headers={"Authorization": f"Bearer {token}"})

    def issue(self, issue_id: str) -> dict:
        return self.http.get(f"{ISSUES}/{issue_id}").json()

    def close_issue(self, issue_id: str) -> None:
        self.http.patch(f"/issues/{issue_id}", json={"status": "closed"})

    def comment(self, issue_id: str, text: str) -> None:
        self.http.post("/logs", json={"issue": issue_id, "text": text})

    def anything(self, path: str) -> dict:
        return self.http.get(path).json()


async def sites(token: str) -> list:
    async with httpx.AsyncClient(base_url=API) as client:
        response = await client.get("/v1/sites", params={"limit": 100})
        return response.json()
