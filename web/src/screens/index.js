// Every screen family of the console, one module each. A module exports `routes`
// (`[{path, view, title, access}]`) and, when it belongs in a team's navigation, `nav`
// (`{path, label, icon, order}`, `path` relative to the team). Adding a family: write
// `screens/<family>.js` and add it to this list; nothing else needs to change.
//
// access: 'guest' (only without a session: log-in, sign-up), 'user' (any signed-in person),
// 'team' (a member of the team in the path's `:team`; the view gets that membership as `team`).

import * as audit from './audit.js';
import * as auth from './auth.js';
import * as dashboard from './dashboard.js';
import * as deployments from './deployments.js';
import * as nodes from './nodes.js';
import * as notifications from './notifications.js';
import * as profile from './profile.js';
import * as projects from './projects.js';
import * as registries from './registries.js';
import * as storages from './storages.js';
import * as teams from './teams.js';
import * as templates from './templates.js';
import * as tokens from './tokens.js';

const families = [
  auth,
  dashboard,
  projects,
  registries,
  nodes,
  deployments,
  notifications,
  storages,
  templates,
  audit,
  teams,
  profile,
  tokens,
];

export const routes = families.flatMap((family) => family.routes);

export const teamNav = families
  .filter((family) => family.nav)
  .map((family) => family.nav)
  .sort((a, b) => a.order - b.order);
