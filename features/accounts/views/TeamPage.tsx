import type { ReaderPreferences } from "@scopeline/ui/format"
import { Notices, TimeOrNever } from "@scopeline/ui/Notices"
import type { Role } from "../Role.ts"

export interface MemberView {
  readonly id: string
  readonly email: string
  readonly name: string
  readonly role: Role
  readonly active: boolean
  readonly lastSignInAt: Date | null
  readonly invitedBy: string | null
  readonly isYou: boolean
}

export interface InvitationView {
  readonly id: string
  readonly email: string
  readonly role: Role
  readonly expiresAt: Date
}

export interface TeamPageProps {
  readonly members: ReadonlyArray<MemberView>
  readonly invitations: ReadonlyArray<InvitationView>
  readonly roles: ReadonlyArray<Role>
  readonly reader: ReaderPreferences
  readonly ttlHours: number
  /** The link of the invitation just created: shown once, to copy. */
  readonly newLink?: { readonly email: string; readonly url: string }
  readonly notice?: string
  readonly error?: string
  /** What the invite form held when it was refused, so nothing typed is lost. */
  readonly invite?: { readonly email?: string; readonly role?: string; readonly firstname?: string; readonly lastname?: string }
}

const RoleSelect = (props: { readonly name: string; readonly id: string; readonly roles: ReadonlyArray<Role>; readonly selected?: string }) => (
  <select name={props.name} id={props.id}>
    {props.roles.map((role) => (
      <option value={role} selected={role === props.selected}>
        {role}
      </option>
    ))}
  </select>
)

/** /admin/users: who is in the team, with which role; invite, change, deactivate, delete. */
export const TeamPage = (props: TeamPageProps) => (
  <>
    <h1>Team</h1>
    <Notices id="team" notice={props.notice} error={props.error} />
    {props.newLink === undefined ? null : (
      <section class="card" id="new-invitation">
        <h2>Invitation link</h2>
        <p>
          Send this link to <strong safe>{props.newLink.email}</strong>. It works once and for {props.ttlHours} hours. Scopeline
          sends no mail: copy it now, it is not shown again.
        </p>
        <label>
          Link
          <input type="text" readonly id="invitation-link" value={props.newLink.url} />
        </label>
      </section>
    )}
    <section id="invite">
      <h2>Invite someone</h2>
      <form method="post" action="/admin/invitations" id="invite-form">
        <label>
          Email
          <input type="email" name="email" required autocomplete="off" value={props.invite?.email ?? ""} />
        </label>
        <label>
          First name (optional)
          <input type="text" name="firstname" value={props.invite?.firstname ?? ""} />
        </label>
        <label>
          Last name (optional)
          <input type="text" name="lastname" value={props.invite?.lastname ?? ""} />
        </label>
        <label for="invite-role">Role</label>
        <RoleSelect name="role" id="invite-role" roles={props.roles} selected={props.invite?.role ?? "accountant"} />
        <button type="submit">Create invitation</button>
      </form>
    </section>
    <section id="invitations">
      <h2>Pending invitations</h2>
      {props.invitations.length === 0 ? (
        <p class="muted">No pending invitations.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              <th>Expires</th>
              <th>Action</th>
            </tr>
          </thead>
          <tbody>
            {props.invitations.map((invitation) => (
              <tr data-invitation={invitation.id}>
                <td safe>{invitation.email}</td>
                <td>{invitation.role}</td>
                <td><TimeOrNever at={invitation.expiresAt} reader={props.reader} /></td>
                <td>
                  <form method="post" action={`/admin/invitations/${invitation.id}/revoke`}>
                    <button type="submit" class="secondary" aria-label={`Revoke the invitation of ${invitation.email}`}>
                      Revoke
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
    <section id="members">
      <h2>Members</h2>
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Role</th>
            <th>Status</th>
            <th>Last sign-in</th>
            <th>Invited by</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {props.members.map((member) => (
            <tr data-user={member.email}>
              <td safe>{member.name}</td>
              <td safe>{member.email}</td>
              <td>
                <form method="post" action={`/admin/users/${member.id}`} class="inline">
                  <label for={`role-${member.id}`} class="visually-hidden" safe>
                    {`Role of ${member.email}`}
                  </label>
                  <RoleSelect name="role" id={`role-${member.id}`} roles={props.roles} selected={member.role} />
                  <button type="submit" class="secondary" aria-label={`Save role of ${member.email}`}>
                    Save role
                  </button>
                </form>
              </td>
              <td>{member.active ? "active" : <span class="status failed">deactivated</span>}</td>
              <td><TimeOrNever at={member.lastSignInAt} reader={props.reader} /></td>
              <td safe>{member.invitedBy ?? "—"}</td>
              <td>
                <form method="post" action={`/admin/users/${member.id}`} class="inline">
                  <input type="hidden" name="active" value={member.active ? "false" : "true"} />
                  <button type="submit" class="secondary" aria-label={`${member.active ? "Deactivate" : "Reactivate"} ${member.email}`}>
                    {member.active ? "Deactivate" : "Reactivate"}
                  </button>
                </form>
                {!member.isYou && (
                  <form
                    method="post"
                    action={`/admin/users/${member.id}/delete`}
                    class="inline"
                    hx-confirm={`Delete the account of ${member.email}? This cannot be undone: they can no longer sign in, and only an invitation brings them back.`}
                  >
                    <button type="submit" class="danger" aria-label={`Delete ${member.email}`}>
                      Delete
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  </>
)
