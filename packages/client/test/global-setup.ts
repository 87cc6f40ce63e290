/**
 * The Node tests' server: the real worker under `wrangler dev` on free ports with fresh state
 * (load-tests/local-server.ts, as the smoke and browser tests run it), started once per run.
 */
import type { TestProject } from "vitest/node";
import { startService } from "../../../load-tests/local-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const service = await startService();
  project.provide("baseUrl", service.baseUrl);
  return () => service.stop();
}
