// Templates: a placeholder until its screens are built. To build them, replace `routes` below
// with the family's screens (list `/:team/templates`, details `/:team/templates/:id`, …) and keep `nav`.

import { comingSoon } from '../ui/placeholder.js';

export const nav = { path: 'templates', label: 'Templates', icon: 'templates', order: 70 };

export const routes = [
  {
    path: '/:team/templates',
    title: 'Templates',
    access: 'team',
    view: comingSoon({
      title: 'Templates',
      icon: 'templates',
      text: 'Templates create a ready project from a catalog of common stacks.',
      routes: ['GET /api/templates', 'POST /api/templates'],
    }),
  },
];
