// A field app's insp.ac client (a fixture for the scan tests: never run).
import axios, { AxiosInstance } from "axios";

const BASE_URL = "https://api.insp.ac/v1";

export class Inspac {
  private api: AxiosInstance = axios.create({ baseURL: BASE_URL });

  async workOrder(id: string) {
    return this.api.get(`/works/${id}`);
  }

  async updateWorkOrder(id: string, body: object) {
    return this.api.request({ url: `/works/${id}`, method: "PATCH", data: body });
  }

  async readings(sensor: string) {
    return this.api(`/sensor-readings?sensor=${sensor}`);
  }

  async checkIn(site: string) {
    return this.api.post("/checkins", { site });
  }

  async follow(next: string) {
    return this.api.get(next);
  }
}
