/** Generated from the control plane's OpenAPI document by `npm run gen:api`: do not edit. */

export interface paths {
  "/api/account/password": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Change Password
     * @description Every other token of the user is revoked (other browsers, API tokens): whoever may
     *     have learnt the old password may also hold one. The calling session stays signed in.
     */
    post: operations["change_password_api_account_password_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/account/tokens": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List Tokens */
    get: operations["list_tokens_api_account_tokens_get"];
    put?: never;
    /** Create Token */
    post: operations["create_token_api_account_tokens_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/account/tokens/{token_id}": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete Token */
    delete: operations["delete_token_api_account_tokens__token_id__delete"];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/admin/invites": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get Invites */
    get: operations["get_invites_api_admin_invites_get"];
    put?: never;
    /** Post Invite */
    post: operations["post_invite_api_admin_invites_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/admin/invites/{invite_id}": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /**
     * Delete Invite
     * @description Revokes the code; the row stays so its use is still on record.
     */
    delete: operations["delete_invite_api_admin_invites__invite_id__delete"];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/admin/sessions": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** All Sessions */
    get: operations["all_sessions_api_admin_sessions_get"];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/admin/sessions/{session_id}/stop": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Force Stop
     * @description Stops anyone's session, through the same path as its owner's own stop.
     */
    post: operations["force_stop_api_admin_sessions__session_id__stop_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/admin/users": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List Users */
    get: operations["list_users_api_admin_users_get"];
    put?: never;
    /** Create User */
    post: operations["create_user_api_admin_users_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/admin/users/{user_id}": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /**
     * Delete User
     * @description Only users without a Linux account. Deleting one that has one means removing the
     *     account, its home and its runner, which needs root: the control plane (account
     *     `oqto`, unprivileged) refuses and names the `oqtoctl` command that does it all.
     *     Stops the user's sessions first: deleting the rows alone would orphan processes.
     */
    delete: operations["delete_user_api_admin_users__user_id__delete"];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/admin/users/{user_id}/disable": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Disable User
     * @description Signs them out everywhere at once (every token is revoked, not just refused, and
     *     open streams and terminals end) and stops their sessions.
     */
    post: operations["disable_user_api_admin_users__user_id__disable_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/admin/users/{user_id}/enable": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Enable User */
    post: operations["enable_user_api_admin_users__user_id__enable_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/admin/users/{user_id}/password": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Reset Password */
    post: operations["reset_password_api_admin_users__user_id__password_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/admin/users/{user_id}/runner": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Runner Health */
    get: operations["runner_health_api_admin_users__user_id__runner_get"];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/auth/login": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Login */
    post: operations["login_api_auth_login_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/auth/logout": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Logout */
    post: operations["logout_api_auth_logout_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/auth/me": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Me */
    get: operations["me_api_auth_me_get"];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/auth/register": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Register */
    post: operations["register_api_auth_register_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/events": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Events */
    get: operations["events_api_events_get"];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/health": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Health */
    get: operations["health_api_health_get"];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/sessions": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List Sessions */
    get: operations["list_sessions_api_sessions_get"];
    put?: never;
    /** Create Session */
    post: operations["create_session_api_sessions_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/sessions/{session_id}": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get Session */
    get: operations["get_session_api_sessions__session_id__get"];
    put?: never;
    post?: never;
    /** Delete Session */
    delete: operations["delete_session_api_sessions__session_id__delete"];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/sessions/{session_id}/agent/{path}": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Agent Proxy Get
     * @description Everything of the session's opencode server API, SSE included. The statuses listed
     *     are the control plane's own refusals; any other answer is opencode's.
     */
    get: operations["agent_proxy_get_api_sessions__session_id__agent__path__get"];
    /**
     * Agent Proxy Put
     * @description Everything of the session's opencode server API, SSE included. The statuses listed
     *     are the control plane's own refusals; any other answer is opencode's.
     */
    put: operations["agent_proxy_put_api_sessions__session_id__agent__path__put"];
    /**
     * Agent Proxy Post
     * @description Everything of the session's opencode server API, SSE included. The statuses listed
     *     are the control plane's own refusals; any other answer is opencode's.
     */
    post: operations["agent_proxy_post_api_sessions__session_id__agent__path__post"];
    /**
     * Agent Proxy Delete
     * @description Everything of the session's opencode server API, SSE included. The statuses listed
     *     are the control plane's own refusals; any other answer is opencode's.
     */
    delete: operations["agent_proxy_delete_api_sessions__session_id__agent__path__delete"];
    /**
     * Agent Proxy Options
     * @description Everything of the session's opencode server API, SSE included. The statuses listed
     *     are the control plane's own refusals; any other answer is opencode's.
     */
    options: operations["agent_proxy_options_api_sessions__session_id__agent__path__options"];
    /**
     * Agent Proxy Head
     * @description Everything of the session's opencode server API, SSE included. The statuses listed
     *     are the control plane's own refusals; any other answer is opencode's.
     */
    head: operations["agent_proxy_head_api_sessions__session_id__agent__path__head"];
    /**
     * Agent Proxy Patch
     * @description Everything of the session's opencode server API, SSE included. The statuses listed
     *     are the control plane's own refusals; any other answer is opencode's.
     */
    patch: operations["agent_proxy_patch_api_sessions__session_id__agent__path__patch"];
    trace?: never;
  };
  "/api/sessions/{session_id}/files/{path}": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Files Proxy Get
     * @description The session's file server (`/tree`, `/file`, `/mkdir`, `/rename`, `/download`, ...).
     *     The statuses listed are the control plane's own refusals; any other answer is the file
     *     server's, in the same envelope.
     */
    get: operations["files_proxy_get_api_sessions__session_id__files__path__get"];
    /**
     * Files Proxy Put
     * @description The session's file server (`/tree`, `/file`, `/mkdir`, `/rename`, `/download`, ...).
     *     The statuses listed are the control plane's own refusals; any other answer is the file
     *     server's, in the same envelope.
     */
    put: operations["files_proxy_put_api_sessions__session_id__files__path__put"];
    /**
     * Files Proxy Post
     * @description The session's file server (`/tree`, `/file`, `/mkdir`, `/rename`, `/download`, ...).
     *     The statuses listed are the control plane's own refusals; any other answer is the file
     *     server's, in the same envelope.
     */
    post: operations["files_proxy_post_api_sessions__session_id__files__path__post"];
    /**
     * Files Proxy Delete
     * @description The session's file server (`/tree`, `/file`, `/mkdir`, `/rename`, `/download`, ...).
     *     The statuses listed are the control plane's own refusals; any other answer is the file
     *     server's, in the same envelope.
     */
    delete: operations["files_proxy_delete_api_sessions__session_id__files__path__delete"];
    /**
     * Files Proxy Options
     * @description The session's file server (`/tree`, `/file`, `/mkdir`, `/rename`, `/download`, ...).
     *     The statuses listed are the control plane's own refusals; any other answer is the file
     *     server's, in the same envelope.
     */
    options: operations["files_proxy_options_api_sessions__session_id__files__path__options"];
    /**
     * Files Proxy Head
     * @description The session's file server (`/tree`, `/file`, `/mkdir`, `/rename`, `/download`, ...).
     *     The statuses listed are the control plane's own refusals; any other answer is the file
     *     server's, in the same envelope.
     */
    head: operations["files_proxy_head_api_sessions__session_id__files__path__head"];
    /**
     * Files Proxy Patch
     * @description The session's file server (`/tree`, `/file`, `/mkdir`, `/rename`, `/download`, ...).
     *     The statuses listed are the control plane's own refusals; any other answer is the file
     *     server's, in the same envelope.
     */
    patch: operations["files_proxy_patch_api_sessions__session_id__files__path__patch"];
    trace?: never;
  };
  "/api/sessions/{session_id}/resume": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Resume Session */
    post: operations["resume_session_api_sessions__session_id__resume_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  "/api/sessions/{session_id}/stop": {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Stop Session */
    post: operations["stop_session_api_sessions__session_id__stop_post"];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /** AdminSessionOut */
    AdminSessionOut: {
      /**
       * Created At
       * Format: date-time
       */
      created_at: string;
      /**
       * Error
       * @description Why the session is not running: what failed, or why it was stopped (`stopped by its owner`, `stopped by an administrator`, `its user was disabled`, `stopped with the server`...). Null while it starts or runs.
       */
      error: string | null;
      /** Id */
      id: string;
      /**
       * Last Active At
       * @description The last request to the session's services through the server (kept across restarts); null if it was never used.
       */
      last_active_at?: string | null;
      /**
       * Progress
       * @description Per service (agent, files, terminal), how far the current start got: `waiting`, `started` (its process runs), `ready` (it answers; with `ready_after`) or `failed`. Kept after a failed start, to show which service failed; null while running or stopped, and for a start begun before the server last restarted.
       */
      progress?: components["schemas"]["ServiceProgress"][] | null;
      /**
       * Ready After
       * @description Seconds from start to answering, per service (agent, files, terminal), for the current run; null when unknown (not running, or started before the server last restarted).
       */
      ready_after?: {
        [key: string]: number;
      } | null;
      /** @description How the session's latest run is (or was) confined, as its user plane enforces it: `enabled` false means unsandboxed. Null until it first runs, while it starts again, and when its user plane does not report a sandbox. */
      sandbox: components["schemas"]["SandboxReport"] | null;
      status: components["schemas"]["SessionStatus"];
      /**
       * Updated At
       * Format: date-time
       */
      updated_at: string;
      /** Username */
      username: string;
      /** Workspace */
      workspace: string;
    };
    /** AdminUserOut */
    AdminUserOut: {
      /**
       * Created At
       * Format: date-time
       */
      created_at: string;
      /** Disabled */
      disabled: boolean;
      /** Id */
      id: string;
      /** Linux User */
      linux_user: string | null;
      role: components["schemas"]["Role"];
      /** Username */
      username: string;
    };
    /** ApiTokenCreateIn */
    ApiTokenCreateIn: {
      /**
       * Expires In Days
       * @default 90
       */
      expires_in_days?: number | null;
      /** Name */
      name: string;
    };
    /** ApiTokenCreatedOut */
    ApiTokenCreatedOut: {
      info: components["schemas"]["ApiTokenOut"];
      /** Token */
      token: string;
    };
    /** ApiTokenOut */
    ApiTokenOut: {
      /**
       * Created At
       * Format: date-time
       */
      created_at: string;
      /** Expires At */
      expires_at: string | null;
      /** Id */
      id: string;
      /** Name */
      name: string | null;
    };
    /**
     * ErrorCode
     * @enum {string}
     */
    ErrorCode:
      | "bad_request"
      | "body_not_allowed"
      | "invalid_request"
      | "too_large"
      | "header_too_large"
      | "header_timeout"
      | "not_found"
      | "method_not_allowed"
      | "unauthorized"
      | "invalid_credentials"
      | "forbidden"
      | "csrf_failed"
      | "origin_refused"
      | "too_many_attempts"
      | "too_many_connections"
      | "weak_password"
      | "wrong_password"
      | "invalid_username"
      | "user_exists"
      | "own_account"
      | "too_many_tokens"
      | "invalid_invite"
      | "registration_failed"
      | "provisioning_failed"
      | "usermgr_unavailable"
      | "single_user"
      | "use_oqtoctl"
      | "account_mismatch"
      | "invalid_workspace"
      | "path_too_long"
      | "too_many_sessions"
      | "session_not_running"
      | "session_starting"
      | "session_stopping"
      | "start_failed"
      | "start_cancelled"
      | "missing_binary"
      | "sandbox_refused"
      | "invalid_path"
      | "outside_root"
      | "not_a_directory"
      | "is_a_directory"
      | "not_a_file"
      | "exists"
      | "conflict"
      | "etag_mismatch"
      | "no_space"
      | "io_error"
      | "runner_unavailable"
      | "upstream_refused"
      | "upstream_unavailable"
      | "upstream_timeout"
      | "timeout"
      | "busy"
      | "bad_frame"
      | "frame_too_large"
      | "invalid_message"
      | "invalid_params"
      | "unknown_method"
      | "unsupported_version"
      | "handshake_required"
      | "not_built"
      | "internal";
    /**
     * ErrorEnvelope
     * @description Every error body the HTTP API and `oqto-files` send.
     */
    ErrorEnvelope: {
      /** @description Stable machine-readable code. */
      error: components["schemas"]["ErrorCode"];
      /**
       * Message
       * @description Human-readable explanation, safe to show.
       */
      message: string;
    };
    /** HealthOut */
    HealthOut: {
      /**
       * Mode
       * @enum {string}
       */
      mode: "single-user" | "multi-user";
      /**
       * Status
       * @constant
       */
      status: "ok";
      /** Version */
      version: string;
    };
    /** InviteCreateIn */
    InviteCreateIn: {
      /**
       * Expires In Hours
       * @default 168
       */
      expires_in_hours?: number | null;
      /**
       * Max Uses
       * @default 1
       */
      max_uses?: number;
      /** Note */
      note?: string | null;
      /** @default user */
      role?: components["schemas"]["Role"];
    };
    /** InviteCreatedOut */
    InviteCreatedOut: {
      /** Code */
      code: string;
      invite: components["schemas"]["InviteOut"];
    };
    /** InviteOut */
    InviteOut: {
      /**
       * Created At
       * Format: date-time
       */
      created_at: string;
      /** Expires At */
      expires_at: string | null;
      /** Id */
      id: string;
      /** Max Uses */
      max_uses: number;
      /** Note */
      note: string | null;
      /** Prefix */
      prefix: string;
      /** Revoked At */
      revoked_at: string | null;
      role: components["schemas"]["Role"];
      /** Uses */
      uses: number;
    };
    /** LoginIn */
    LoginIn: {
      /** Password */
      password: string;
      /** Username */
      username: string;
    };
    /** PasswordChangeIn */
    PasswordChangeIn: {
      /** Current Password */
      current_password: string;
      /**
       * New Password
       * @description At least 8 characters.
       */
      new_password: string;
    };
    /** PasswordResetIn */
    PasswordResetIn: {
      /**
       * Password
       * @description At least 8 characters.
       */
      password: string;
    };
    /** RegisterIn */
    RegisterIn: {
      /** Invite Code */
      invite_code: string;
      /**
       * Password
       * @description At least 8 characters.
       */
      password: string;
      /**
       * Username
       * @description Lower-case letters, digits, '_' and '-', starting with a letter; at most 32 characters minus the length of `[provisioning] linux_user_prefix` (27 with the default prefix `oqto_`), since prefix + name is the Linux account.
       */
      username: string;
    };
    /**
     * Role
     * @enum {string}
     */
    Role: "admin" | "user";
    /** RunnerHealthOut */
    RunnerHealthOut: {
      /** Detail */
      detail: string;
      /**
       * Status
       * @enum {string}
       */
      status: "ok" | "unavailable" | "in-process";
    };
    /**
     * SandboxReport
     * @description How a running session is confined, as its user plane enforces it: shown to the
     *     user (an unsandboxed session is visible as such) and to operators.
     */
    SandboxReport: {
      /** Cpu Weight */
      cpu_weight?: number | null;
      /** Enabled */
      enabled: boolean;
      /** Limits Unenforced */
      limits_unenforced?: string | null;
      /** Memory Max */
      memory_max?: number | null;
      /** Network */
      network?: ("host" | "allowlist" | "none") | null;
      /**
       * Pid Namespace
       * @default false
       */
      pid_namespace?: boolean;
      /** Profile */
      profile?: string | null;
      /** Tasks Max */
      tasks_max?: number | null;
    };
    /**
     * ServiceName
     * @description A session's services, as the control plane asks for a connection to one.
     * @enum {string}
     */
    ServiceName: "agent" | "files" | "terminal";
    /**
     * ServicePhase
     * @description How far one service of a starting session got.
     * @enum {string}
     */
    ServicePhase: "waiting" | "started" | "ready" | "failed";
    /**
     * ServiceProgress
     * @description One service's step in a start, pushed while the session is `starting`. No free
     *     text: a runner is its user's, and this is kept and shown by the control plane.
     */
    ServiceProgress: {
      phase: components["schemas"]["ServicePhase"];
      /** Ready After */
      ready_after?: number | null;
      service: components["schemas"]["ServiceName"];
    };
    /** SessionCreateIn */
    SessionCreateIn: {
      /**
       * Workspace
       * @description `name` or `group/name` (at most 4 levels), relative to the owner's workspace root; each level 1-64 letters, digits, '.', '_', '-' or spaces, not starting with '.', '-' or a space nor ending with '.' or a space.
       */
      workspace: string;
    };
    /** SessionOut */
    SessionOut: {
      /**
       * Created At
       * Format: date-time
       */
      created_at: string;
      /**
       * Error
       * @description Why the session is not running: what failed, or why it was stopped (`stopped by its owner`, `stopped by an administrator`, `its user was disabled`, `stopped with the server`...). Null while it starts or runs.
       */
      error: string | null;
      /** Id */
      id: string;
      /**
       * Last Active At
       * @description The last request to the session's services through the server (kept across restarts); null if it was never used.
       */
      last_active_at?: string | null;
      /**
       * Progress
       * @description Per service (agent, files, terminal), how far the current start got: `waiting`, `started` (its process runs), `ready` (it answers; with `ready_after`) or `failed`. Kept after a failed start, to show which service failed; null while running or stopped, and for a start begun before the server last restarted.
       */
      progress?: components["schemas"]["ServiceProgress"][] | null;
      /**
       * Ready After
       * @description Seconds from start to answering, per service (agent, files, terminal), for the current run; null when unknown (not running, or started before the server last restarted).
       */
      ready_after?: {
        [key: string]: number;
      } | null;
      /** @description How the session's latest run is (or was) confined, as its user plane enforces it: `enabled` false means unsandboxed. Null until it first runs, while it starts again, and when its user plane does not report a sandbox. */
      sandbox: components["schemas"]["SandboxReport"] | null;
      status: components["schemas"]["SessionStatus"];
      /**
       * Updated At
       * Format: date-time
       */
      updated_at: string;
      /** Workspace */
      workspace: string;
    };
    /**
     * SessionStatus
     * @enum {string}
     */
    SessionStatus: "starting" | "running" | "stopping" | "stopped" | "failed";
    /** TokenOut */
    TokenOut: {
      /** Csrf Token */
      csrf_token: string;
      /** Expires At */
      expires_at: string | null;
      /** Token */
      token: string;
      /**
       * Token Type
       * @default bearer
       * @constant
       */
      token_type?: "bearer";
      user: components["schemas"]["UserOut"];
    };
    /** UserCreateIn */
    UserCreateIn: {
      /**
       * Password
       * @description At least 8 characters.
       */
      password: string;
      /** @default user */
      role?: components["schemas"]["Role"];
      /** Username */
      username: string;
    };
    /** UserOut */
    UserOut: {
      /**
       * Created At
       * Format: date-time
       */
      created_at: string;
      /** Disabled */
      disabled: boolean;
      /** Id */
      id: string;
      role: components["schemas"]["Role"];
      /** Username */
      username: string;
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  change_password_api_account_password_post: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        "application/json": components["schemas"]["PasswordChangeIn"];
      };
    };
    responses: {
      /** @description Successful Response */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Bad Request: `bad_request` */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `wrong_password`, `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Too Many Requests: `too_many_attempts` */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  list_tokens_api_account_tokens_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ApiTokenOut"][];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  create_token_api_account_tokens_post: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        "application/json": components["schemas"]["ApiTokenCreateIn"];
      };
    };
    responses: {
      /** @description Successful Response */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ApiTokenCreatedOut"];
        };
      };
      /** @description Bad Request: `bad_request` */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `too_many_tokens` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  delete_token_api_account_tokens__token_id__delete: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        token_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  get_invites_api_admin_invites_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["InviteOut"][];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `forbidden` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  post_invite_api_admin_invites_post: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        "application/json": components["schemas"]["InviteCreateIn"];
      };
    };
    responses: {
      /** @description Successful Response */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["InviteCreatedOut"];
        };
      };
      /** @description Bad Request: `bad_request` */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed`, `forbidden` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `single_user` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  delete_invite_api_admin_invites__invite_id__delete: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        invite_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed`, `forbidden` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  all_sessions_api_admin_sessions_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["AdminSessionOut"][];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `forbidden` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  force_stop_api_admin_sessions__session_id__stop_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["AdminSessionOut"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed`, `forbidden` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  list_users_api_admin_users_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["AdminUserOut"][];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `forbidden` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  create_user_api_admin_users_post: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        "application/json": components["schemas"]["UserCreateIn"];
      };
    };
    responses: {
      /** @description Successful Response */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["AdminUserOut"];
        };
      };
      /** @description Bad Request: `bad_request` */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed`, `forbidden` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `single_user`, `user_exists` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  delete_user_api_admin_users__user_id__delete: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        user_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `own_account`, `csrf_failed`, `forbidden` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `use_oqtoctl` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  disable_user_api_admin_users__user_id__disable_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        user_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["AdminUserOut"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `own_account`, `csrf_failed`, `forbidden` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  enable_user_api_admin_users__user_id__enable_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        user_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["AdminUserOut"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed`, `forbidden` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  reset_password_api_admin_users__user_id__password_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        user_id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        "application/json": components["schemas"]["PasswordResetIn"];
      };
    };
    responses: {
      /** @description Successful Response */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Bad Request: `bad_request` */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed`, `forbidden` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  runner_health_api_admin_users__user_id__runner_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        user_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["RunnerHealthOut"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `forbidden` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  login_api_auth_login_post: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        "application/json": components["schemas"]["LoginIn"];
      };
    };
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["TokenOut"];
        };
      };
      /** @description Bad Request: `bad_request` */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unauthorized: `invalid_credentials` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Too Many Requests: `too_many_attempts` */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  logout_api_auth_logout_post: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  me_api_auth_me_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["UserOut"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  register_api_auth_register_post: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        "application/json": components["schemas"]["RegisterIn"];
      };
    };
    responses: {
      /** @description Successful Response */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["UserOut"];
        };
      };
      /** @description Bad Request: `invalid_username`, `registration_failed`, `bad_request` */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `single_user` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Too Many Requests: `too_many_attempts` */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `provisioning_failed` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `busy`, `usermgr_unavailable` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  events_api_events_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description `event: session` (a SessionOut), `event: session.deleted` (`{"id": ...}`) and `event: resync` (`{}`: refetch the list), until sign-out. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "text/event-stream": {
            data: string;
            /** @enum {unknown} */
            event: "session" | "session.deleted" | "resync";
          };
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  health_api_health_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["HealthOut"];
        };
      };
    };
  };
  list_sessions_api_sessions_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["SessionOut"][];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  create_session_api_sessions_post: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        "application/json": components["schemas"]["SessionCreateIn"];
      };
    };
    responses: {
      /** @description Successful Response */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["SessionOut"];
        };
      };
      /** @description Bad Request: `invalid_workspace`, `bad_request` */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `too_many_sessions` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  get_session_api_sessions__session_id__get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["SessionOut"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  delete_session_api_sessions__session_id__delete: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  agent_proxy_get_api_sessions__session_id__agent__path__get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Bad Request: `body_not_allowed` */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  agent_proxy_put_api_sessions__session_id__agent__path__put: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  agent_proxy_post_api_sessions__session_id__agent__path__post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  agent_proxy_delete_api_sessions__session_id__agent__path__delete: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  agent_proxy_options_api_sessions__session_id__agent__path__options: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  agent_proxy_head_api_sessions__session_id__agent__path__head: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Bad Request: `body_not_allowed` */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  agent_proxy_patch_api_sessions__session_id__agent__path__patch: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  files_proxy_get_api_sessions__session_id__files__path__get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Bad Request: `body_not_allowed` */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  files_proxy_put_api_sessions__session_id__files__path__put: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Request Entity Too Large: `too_large` */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  files_proxy_post_api_sessions__session_id__files__path__post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Request Entity Too Large: `too_large` */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  files_proxy_delete_api_sessions__session_id__files__path__delete: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Request Entity Too Large: `too_large` */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  files_proxy_options_api_sessions__session_id__files__path__options: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Request Entity Too Large: `too_large` */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  files_proxy_head_api_sessions__session_id__files__path__head: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Bad Request: `body_not_allowed` */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  files_proxy_patch_api_sessions__session_id__files__path__patch: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_not_running` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Request Entity Too Large: `too_large` */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `upstream_unavailable`, `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `session_starting`, `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Gateway Timeout: `upstream_timeout` */
      504: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description The service's own answer, passed through: any status and content type (`oqto-files` answers its errors in the same envelope). */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "*/*": unknown;
        };
      };
    };
  };
  resume_session_api_sessions__session_id__resume_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["SessionOut"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Conflict: `session_stopping` */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
  stop_session_api_sessions__session_id__stop_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["SessionOut"];
        };
      };
      /** @description Unauthorized: `unauthorized` */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Forbidden: `csrf_failed` */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Not Found: `not_found` */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Unprocessable Entity: `invalid_request` */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Internal Server Error: `account_mismatch`, `internal` */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Bad Gateway: `invalid_message`, `upstream_refused` */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
      /** @description Service Unavailable: `runner_unavailable`, `timeout`, `busy` */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          "Retry-After"?: number;
          [name: string]: unknown;
        };
        content: {
          "application/json": components["schemas"]["ErrorEnvelope"];
        };
      };
    };
  };
}
