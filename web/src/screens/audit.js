// Audit log: a placeholder until its screens are built. To build them, replace `routes` below
// with the family's screens (list `/:team/audit-log`, details `/:team/audit-log/:id`, …) and keep `nav`.

import { comingSoon } from '../ui/placeholder.js';

export const nav = { path: 'audit-log', label: 'Audit log', icon: 'audit', order: 80 };

export const routes = [
  {
    path: '/:team/audit-log',
    title: 'Audit log',
    access: 'team',
    view: comingSoon({
      title: 'Audit log',
      icon: 'audit',
      text: 'The audit log shows every change made in the team, by whom and when.',
      routes: ['GET /api/{teamSlug}/audit-log'],
    }),
  },
];
