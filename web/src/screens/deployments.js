// Deployments: a placeholder until its screens are built. To build them, replace `routes` below
// with the family's screens (list `/:team/deployments`, details `/:team/deployments/:id`, …) and keep `nav`.

import { comingSoon } from '../ui/placeholder.js';

export const nav = { path: 'deployments', label: 'Deployments', icon: 'deployments', order: 40 };

export const routes = [
  {
    path: '/:team/deployments',
    title: 'Deployments',
    access: 'team',
    view: comingSoon({
      title: 'Deployments',
      icon: 'deployments',
      text: 'Deployments put a version on a node and follow it live.',
      routes: ['GET /api/{teamSlug}/deployments', 'POST /api/{teamSlug}/deployments'],
    }),
  },
];
