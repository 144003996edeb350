import type { Agent as HttpsAgent } from 'node:https';
import { MeasuredLoad, type MeasuredLoadReader } from '@spillway/model';
import axios, { type AxiosInstance } from 'axios';

/** `GET /v1/load` on a router's API (distributed mode: the router runs in its own process). */
export class RemoteMeasuredLoad implements MeasuredLoadReader {
  private readonly http: AxiosInstance;

  constructor(
    url: string,
    private readonly httpsAgent?: { current(): HttpsAgent },
  ) {
    this.http = axios.create({ baseURL: url, timeout: 5_000 });
  }

  async measuredLoad(service: string, windowSeconds: number): Promise<MeasuredLoad> {
    const response = await this.http.get('/v1/load', {
      params: { service, windowSeconds },
      validateStatus: () => true,
      ...(this.httpsAgent ? { httpsAgent: this.httpsAgent.current() } : {}),
    });
    if (response.status !== 200) {
      // The router's problem+json says why (load reporting off, unknown service).
      const detail = (response.data as { detail?: unknown } | undefined)?.detail;
      throw new Error(`GET /v1/load answered ${response.status}${typeof detail === 'string' ? `: ${detail}` : ''}`);
    }
    const parsed = MeasuredLoad.safeParse(response.data);
    if (!parsed.success)
      throw new Error(`GET /v1/load answered an unexpected body: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }
}
