/** The app's names for the control plane's JSON shapes, generated into `schema.d.ts`. */
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Role = Schemas["Role"];
export type User = Schemas["UserOut"];
export type AdminUser = Schemas["AdminUserOut"];
export type SessionStatus = Schemas["SessionStatus"];
export type Session = Schemas["SessionOut"];
export type Sandbox = Schemas["SandboxReport"];
export type ServiceProgress = Schemas["ServiceProgress"];
export type AdminSession = Schemas["AdminSessionOut"];
export type Health = Schemas["HealthOut"];
export type ApiToken = Schemas["ApiTokenOut"];
export type ApiTokenCreated = Schemas["ApiTokenCreatedOut"];
export type Invite = Schemas["InviteOut"];
export type InviteCreated = Schemas["InviteCreatedOut"];
export type RunnerHealth = Schemas["RunnerHealthOut"];
export type ErrorEnvelope = Schemas["ErrorEnvelope"];
