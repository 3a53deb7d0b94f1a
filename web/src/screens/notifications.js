// Notifications: a placeholder until its screens are built. To build them, replace `routes` below
// with the family's screens (list `/:team/notifications`, details `/:team/notifications/:id`, …) and keep `nav`.

import { comingSoon } from '../ui/placeholder.js';

export const nav = { path: 'notifications', label: 'Notifications', icon: 'notifications', order: 50 };

export const routes = [
  {
    path: '/:team/notifications',
    title: 'Notifications',
    access: 'team',
    view: comingSoon({
      title: 'Notifications',
      icon: 'notifications',
      text: 'Notifications tell your chat about deployments and nodes.',
      routes: ['GET /api/{teamSlug}/notifications', 'POST /api/{teamSlug}/notifications'],
    }),
  },
];
